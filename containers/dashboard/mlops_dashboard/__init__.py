"""The churn model's MLOps dashboard: data access and form logic behind the Streamlit pages.

The modules here hold everything that can be tested without a browser (settings, AWS calls and
their error messages, the prediction form's fields and validation); the page scripts in `views/`
only lay the results out.
"""
