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

# The policy pack's unit test modules and its coverage check (tests/policies/test_pack.py) go to one
# worker together: the check reads what those modules asserted in its own process, and runs the
# modules it did not see (another worker's) again in a child session.
POLICY_TESTS = "tests/policies/"
# Policy test modules that judge the real program or the pack as a whole, not one policy's cases.
NOT_POLICY_UNIT_MODULES = {"test_shipped_stacks.py", "test_real_program_violations.py"}
POLICY_UNITS_SCOPE = POLICY_TESTS + "test_*.py (unit modules and test_pack.py)"


def scope_of(nodeid: str) -> str:
    """The unit of work a test goes to a worker in: its file, or the policy units' scope."""
    path = nodeid.split("::", 1)[0]
    folder, _, name = path.rpartition("/")
    if f"{folder}/" == POLICY_TESTS and name.startswith("test_") and name not in NOT_POLICY_UNIT_MODULES:
        return POLICY_UNITS_SCOPE
    return path


def file_scheduling(config, log):
    """pytest-xdist's --dist loadfile, with the units of `scope_of`."""
    from xdist.scheduler import LoadFileScheduling

    class FileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return FileScheduling(config, log)
