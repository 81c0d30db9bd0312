"""A command can be pointed at another instance folder (a throw-away site for measurements, a restore elsewhere)."""

from catalogue import create_app


def test_the_instance_folder_comes_from_catalogue_instance_path(tmp_path, monkeypatch):
    monkeypatch.setenv("CATALOGUE_INSTANCE_PATH", str(tmp_path / "big"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WARM_UP": False, "PAGE_CACHE": False})
    assert app.instance_path == str(tmp_path / "big")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'big' / 'catalogue.db'}"
    assert (tmp_path / "big").is_dir()
