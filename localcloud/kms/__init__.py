"""localcloud's KMS API (2016-01-20, RPC style) over the key store that SSE-KMS uses.

api.py is the WSGI app (parse, authenticate, dispatch, JSON); actions.py and byok.py hold one function per
action; errors.py the error codes; lifecycle.py deletes keys past their deletion date, expires imported
material and rotates keys.
"""
