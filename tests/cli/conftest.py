from tests.data.conftest import config_path, dump_path  # noqa: F401  (shared fixtures)
