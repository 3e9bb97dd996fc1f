"""crlcheck on AWS: API Gateway events and responses, S3, settings, and the Lambda handlers.

Nothing in the core (:mod:`crlcheck`) imports this package; importing :mod:`crlcheck.aws.s3`
(or a handler module) imports boto3.
"""
