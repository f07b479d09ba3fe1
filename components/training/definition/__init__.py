"""The SageMaker Pipeline definition, generated with the sagemaker SDK without any network call."""
