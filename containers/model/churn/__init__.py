"""Customer-churn model container: data, preprocess, train, evaluate and serve.

Each step is a function taking explicit paths (churn.data.generate, churn.preprocess.preprocess,
churn.train.train, churn.evaluate.evaluate, churn.model.Predictor, churn.app.InferenceApp); the
entry points in bin/ only resolve SageMaker's /opt/ml paths (churn.paths) and call them.
"""
