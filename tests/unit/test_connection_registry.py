"""The REST server's connection registry: per-client caps, the descriptor reserve, releases."""

from __future__ import annotations

import pytest

from entrypoints.rest.connections import Admission, ConnectionLimits, ConnectionRegistry


def test_a_client_is_capped_and_served_again_once_it_closes_one() -> None:
    registry = ConnectionRegistry(ConnectionLimits(per_client=2))
    outcomes = [registry.admit("10.0.0.1") for _ in range(3)]
    assert outcomes == [Admission.SERVE, Admission.SERVE, Admission.CLIENT_CAP]
    assert registry.admit("10.0.0.2") is Admission.SERVE  # the cap is per client
    assert (registry.held_by("10.0.0.1"), registry.open) == (2, 3)  # the refused one holds nothing
    registry.release("10.0.0.1")
    assert registry.admit("10.0.0.1") is Admission.SERVE


def test_past_served_connections_are_reserve_only_then_refused() -> None:
    registry = ConnectionRegistry(ConnectionLimits(per_client=10, served=2, with_reserve=3))
    outcomes = [registry.admit(f"10.0.0.{n}") for n in range(4)]
    assert outcomes == [Admission.SERVE, Admission.SERVE, Admission.RESERVE_ONLY, Admission.RESERVE_FULL]
    assert registry.in_reserve
    assert registry.open == 3


def test_the_reserve_is_left_when_connections_fall_back_to_served() -> None:
    registry = ConnectionRegistry(ConnectionLimits(per_client=10, served=1, with_reserve=2))
    registry.admit("a")
    registry.admit("b")
    assert registry.in_reserve
    registry.release("b")
    assert not registry.in_reserve
    assert registry.admit("c") is Admission.RESERVE_ONLY


def test_a_release_of_a_client_holding_nothing_changes_nothing() -> None:
    registry = ConnectionRegistry(ConnectionLimits(per_client=1))
    registry.release("nobody")
    assert (registry.open, registry.held_by("nobody")) == (0, 0)


@pytest.mark.parametrize("limits", [(0, None, None), (1, 2, None), (1, 3, 2), (1, 0, 0)])
def test_inconsistent_limits_are_refused(limits: tuple[int, int | None, int | None]) -> None:
    with pytest.raises(ValueError):
        ConnectionLimits(*limits)
