"""The README's production recipe is what `make stack-check` starts: its environment, the web unit's gunicorn
command line and the nginx site are read from the README, so an edit there that the check cannot follow fails here,
in `make test`, before CI gets to the stack."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def stack_check():
    spec = importlib.util.spec_from_file_location("stack_check", ROOT / "deploy" / "stack_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_check_starts_the_readme_s_environment_gunicorn_and_nginx_with_only_ports_and_folders_changed():
    check = stack_check()
    environment = check.readme_environment()
    assert environment["SEARCH_SYNC_IN_PROCESS"] == "0" and environment["JOBS_IN_PROCESS"] == "0"
    assert environment["MEDIA_ACCEL_REDIRECT"] == "/_uploads/"
    assert environment["COLLECTION_X_ACCEL_PREFIX"] == "/_collections/"

    gunicorn = check.readme_gunicorn_arguments(2, 8123, "catalogue:create_app({})")
    assert gunicorn[:2] == ["-w", "2"] and "127.0.0.1:8123" in gunicorn and gunicorn[-1] == "catalogue:create_app({})"
    assert gunicorn[gunicorn.index("--timeout") + 1] == "120"

    site = check.readme_nginx_site({"/srv/catalogue/instance/": "/var/lib/catalogue/", "listen 80;": "listen 8080;"})
    assert "alias /var/lib/catalogue/uploads/;" in site
    assert "alias /var/lib/catalogue/uploads/contest/collections/;" in site
    assert "listen 8080;" in site and "location /_uploads/" in site and "internal;" in site


def test_a_readme_without_what_the_check_replaces_is_named():
    check = stack_check()
    with pytest.raises(check.CheckFailed, match="«listen 8443 quic;» not found"):
        check.readme_nginx_site({"listen 8443 quic;": "listen 1;"})
