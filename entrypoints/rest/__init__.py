"""The aiohttp REST API Dreammaker calls."""
