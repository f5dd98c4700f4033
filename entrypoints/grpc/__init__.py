"""The grpc.aio entrypoint: the MarketData service, health and reflection, over the same use cases as REST."""
