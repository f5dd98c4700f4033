"""One answer memo for both edges: each served answer encoded once, only its timestamp fresh.

A cached value is served many times between two upstream fetches, and every one of those
answers is the same bytes but for the response ``timestamp``. Presenting one (pydantic models
and orjson on REST, protobuf messages on gRPC) costs milliseconds for a thousand candles;
stamping a fresh timestamp into bytes kept from the first encoding costs a microsecond.

- ``answer_key``: what an answer is kept by, derived from every field of ``Served`` but the
  value itself (what was asked, when its entry was fetched, whether it is stale), so nothing
  that changes the served value can be left out of it by hand.
- ``byte_bounded_lru``: where the encodings are kept, least recently used out, bounded by bytes.
- ``memo``: ``AnswerMemo``, the lookup an edge calls with a served value and its presenter.
- ``json_body`` (REST) and ``protobuf_answer`` (gRPC): how each edge encodes an answer without
  its timestamp and stamps a fresh one in.
"""
