"""The ``cryptodata`` proto package."""
