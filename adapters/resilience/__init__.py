"""Resilience adapters: circuit breakers, cool-downs, upstream budgets, client rate limits."""
