"""One adapter per upstream provider: wire format in, domain models and errors out."""
