"""kyc.settings: embedded without DATABASE_URL / REDIS_URL, PostgreSQL and Redis with them.

Each test loads the settings in a separate process (see settings_subprocess),
so this process's own settings are never touched.
"""

import stat

import pytest

from tests.unit.settings_subprocess import run_python, settings_for

POSTGRES_URL = "postgresql://verity:s3cret@db.internal:5432/verity"
REDIS_URL = "redis://redis.internal:6379/0"


@pytest.fixture
def var_dir(tmp_path):
    return tmp_path / "var"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("embedded") / "var"
    return var_dir, settings_for(var_dir)


@pytest.fixture(scope="module")
def scaled_out(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("scaled") / "var"
    return settings_for(var_dir, DATABASE_URL=POSTGRES_URL, REDIS_URL=REDIS_URL)


# --- embedded ---------------------------------------------------------------------


def test_without_database_url_the_database_is_sqlite_in_the_var_dir(embedded):
    var_dir, settings = embedded
    assert settings["db_engine"] == "django.db.backends.sqlite3"
    assert settings["db_name"] == str(var_dir / "db.sqlite3")


def test_embedded_sqlite_takes_the_write_lock_at_begin(embedded):
    """IMMEDIATE makes two writers queue instead of failing with "database is locked"."""
    _var_dir, settings = embedded
    assert settings["db_options"]["transaction_mode"] == "IMMEDIATE"
    assert settings["db_options"]["timeout"] >= 5


def test_without_redis_url_the_channel_layer_is_in_memory(embedded):
    _var_dir, settings = embedded
    assert settings["channel_backend"] == "channels.layers.InMemoryChannelLayer"


def test_without_redis_url_celery_runs_tasks_eagerly(embedded):
    _var_dir, settings = embedded
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True
    assert settings["celery_app_eager"] is True
    assert settings["CELERY_BROKER_URL"] == "memory://"


def test_debug_is_off_unless_asked_for(embedded):
    _var_dir, settings = embedded
    assert settings["DEBUG"] is False


def test_bare_machine_makes_a_private_secret_key_once_and_keeps_it(embedded):
    var_dir, settings = embedded
    key_file = var_dir / "secret_key"
    assert key_file.read_text().strip() == settings["SECRET_KEY"]
    assert len(settings["SECRET_KEY"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings_for(var_dir)["SECRET_KEY"] == settings["SECRET_KEY"]


def test_two_installations_never_share_a_secret_key(embedded, var_dir):
    _embedded_var_dir, settings = embedded
    assert settings_for(var_dir)["SECRET_KEY"] != settings["SECRET_KEY"]


# --- PostgreSQL and Redis -----------------------------------------------------------


def test_with_database_url_the_database_is_postgresql(scaled_out):
    assert scaled_out["db_engine"] == "django.db.backends.postgresql"
    assert (scaled_out["db_name"], scaled_out["db_host"]) == ("verity", "db.internal")
    assert scaled_out["db_conn_max_age"] == 0


def test_with_redis_url_the_channel_layer_is_redis_pubsub(scaled_out):
    assert scaled_out["channel_backend"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert scaled_out["channel_config"] == {"hosts": [REDIS_URL]}


def test_with_redis_url_celery_uses_workers_and_acknowledges_late(scaled_out):
    assert scaled_out["CELERY_TASK_ALWAYS_EAGER"] is False
    assert scaled_out["CELERY_TASK_ACKS_LATE"] is True
    assert scaled_out["CELERY_BROKER_URL"] == REDIS_URL
    assert scaled_out["celery_app_eager"] is False
    assert scaled_out["celery_app_acks_late"] is True
    assert scaled_out["celery_app_reject_on_worker_lost"] is True
    assert scaled_out["celery_app_broker"] == REDIS_URL


def test_postgresql_without_redis_keeps_the_embedded_layer_and_eager_tasks(var_dir):
    settings = settings_for(var_dir, DATABASE_URL=POSTGRES_URL)
    assert settings["db_engine"] == "django.db.backends.postgresql"
    assert settings["channel_backend"] == "channels.layers.InMemoryChannelLayer"
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True


def test_secret_key_comes_from_the_environment_or_a_secret_file(var_dir, tmp_path):
    assert settings_for(var_dir, SECRET_KEY="k" * 60)["SECRET_KEY"] == "k" * 60
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file-" + "f" * 50 + "\n")
    assert settings_for(var_dir, SECRET_KEY_FILE=str(secret_file))["SECRET_KEY"] == "from-a-file-" + "f" * 50
    assert not (var_dir / "secret_key").exists()


def test_allowed_hosts_follow_the_public_base_url(var_dir):
    settings = settings_for(var_dir, PUBLIC_BASE_URL="https://kyc.example.com")
    assert "kyc.example.com" in settings["ALLOWED_HOSTS"]


@pytest.mark.parametrize("variable", ["DEBUG", "HTTPS", "BEHIND_TLS_PROXY", "EMAIL_USE_TLS"])
def test_start_up_fails_on_a_boolean_that_is_neither_true_nor_false(var_dir, variable):
    result = run_python(var_dir, "import django; django.setup()", **{variable: "flase"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable}='flase' is neither true nor false" in result.stderr


def test_start_up_fails_on_a_number_that_is_not_a_number(var_dir):
    result = run_python(var_dir, "import django; django.setup()", LINK_DEFAULT_TTL_HOURS="72h")
    assert result.returncode != 0
    assert "LINK_DEFAULT_TTL_HOURS='72h' is not a whole number" in result.stderr
