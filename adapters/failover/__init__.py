"""Failover from the shared backend (Redis) to in-process state: one typed wrapper per port.

Every wrapper implements its port over a Redis-backed adapter and its in-process twin, and
asks the one ``SharedBackendGuard`` (``guard.py``) whether Redis is worth trying.
"""
