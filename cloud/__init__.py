"""The layer below every app: the only code that talks to OSS and KMS, and the rules of their vocabulary.

Not a Django app (no models): the OSS client over oss2 (`oss`), the KMS client over the KMS SDK (`kms`), the errors
every layer raises (`errors`), server-side encryption settings and the regions that offer them (`sse`, `regions`),
and the client-side encryption format of oss2's CryptoBucket (`cse`). Apps import it; it imports no app.
"""
