"""The Lambda handlers of Pattern #3, deployable to AWS unchanged (boto3 only, configured by
environment variables), and the flight model they share."""

__all__: list[str] = []
