"""Use cases: take a Session and plain values, check authorisation, return plain data.

Services never read the request and never commit: the caller owns the transaction.
"""
