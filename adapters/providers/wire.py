"""Numeric types for validating provider payloads."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# Decimal strings ("65012.34000000") and JSON numbers both validate into floats parsed from
# their exact text; infinities and NaN are refused.
Price = Annotated[float, Field(gt=0, allow_inf_nan=False)]  # a zero price is no price
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]  # volumes and market caps may be 0
Number = Annotated[float, Field(allow_inf_nan=False)]
