"""The pure core of the Crypto Data Engine: models, value objects, policies, ports and errors.

Nothing in this package performs I/O, reads a clock or imports a framework.
"""
