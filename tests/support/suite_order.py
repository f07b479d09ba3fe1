"""The order pytest-xdist hands the test files out in."""

# The files that take longest, run first: pytest-xdist hands whole files to its workers in collection
# order (`make test` passes --no-loadscope-reorder, which would otherwise put files with most tests
# first), so a long file handed out last would keep one worker busy while the other idles.
LONGEST_FIRST = [
    "tests/gitops/test_promotion_pr.py",
    "tests/tools/rehearsal/test_rehearsal.py",
    "tests/policies/test_real_program_violations.py",
    "tests/containers/dashboard/test_dashboard_browser.py",
    "tests/containers/model/test_model_serve.py",
    "tests/tools/dashboard_demo/test_dashboard_demo.py",
    "tests/tools/mutation/test_mutation.py",
    "tests/components/training/definition/test_pipeline_definition.py",
    "tests/containers/dashboard/test_dashboard_app.py",
]
