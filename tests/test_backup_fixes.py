"""Review 20 (F1, F2, F3, F9): a backup reported good always restores (names a restore refuses are
skipped and counted; the archive is checked right after it is written); a restore never writes through
a symbolic link in its targets; a file system error is one line; ``adbot backup DIR/`` for a folder not
made yet is refused rather than written as a file named after the folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from control_bot.backup import archive as archive_mod
from control_bot.backup.archive import BackupRefused, check_backup, create_backup, restore_backup
from control_bot.cli import main
from core.private_files import write_private_file
from storage.db import Database


def odd_sessions(sessions: Path) -> None:
    """One good session file and what an operator may drop beside it: a deep tdata folder, a name with a
    space, a non-ASCII name."""
    (sessions / "unused").mkdir(parents=True)
    write_private_file(sessions / "unused" / "s1.session", b"a session, kept as bytes")
    deep = sessions / "My Imports" / "tdata" / "D877F783D5D3EF8C"
    deep.mkdir(parents=True)
    (deep / "maps").write_bytes(b"x")
    (sessions / "unused" / "Иван.session").write_bytes(b"y")
    (sessions / "a" / "b" / "c" / "d").mkdir(parents=True)
    (sessions / "a" / "b" / "c" / "d" / "too_deep.session").write_bytes(b"z")


async def test_a_backup_skips_names_a_restore_refuses_and_restores(db: Database, tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    odd_sessions(sessions)
    result = create_backup(db.path.parent, sessions, tmp_path / "b.tar.gz")
    assert sorted(result.skipped) == [
        "My Imports/tdata/D877F783D5D3EF8C/maps", "a/b/c/d/too_deep.session", "unused/Иван.session",
    ]
    assert check_backup(result.path).sessions == 1
    target = tmp_path / "t"
    restore_backup(result.path, target / "data", target / "sessions")
    assert (target / "sessions" / "unused" / "s1.session").read_bytes() == b"a session, kept as bytes"


async def test_the_command_line_says_what_it_skipped(
    db: Database, tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    odd_sessions(tmp_path / "sessions")
    await db.close()
    assert main(["backup", "--config", config, str(tmp_path / "b.tar.gz")]) == 0
    out = capsys.readouterr().out
    assert "backup written and checked" in out
    assert "3 file(s) in the sessions folder skipped: names a restore refuses" in out
    assert main(["restore", "--check", str(tmp_path / "b.tar.gz")]) == 0


async def test_an_archive_that_does_not_check_is_never_reported_good(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = archive_mod.unpack_checked

    def damaged(archive: Path, into: Path) -> archive_mod.Manifest:
        with archive.open("r+b") as fh:  # the bytes on disk are not what was written
            fh.seek(archive.stat().st_size // 2)
            fh.write(b"\0" * 64)
        return real(archive, into)

    monkeypatch.setattr(archive_mod, "unpack_checked", damaged)
    sessions = tmp_path / "sessions"
    odd_sessions(sessions)
    with pytest.raises(BackupRefused, match="does not check"):
        create_backup(db.path.parent, sessions, tmp_path / "b.tar.gz")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("b.tar.gz", ".adbot-backup-"))]


async def restorable(db: Database, tmp_path: Path) -> Path:
    sessions = tmp_path / "sessions"
    (sessions / "unused").mkdir(parents=True)
    write_private_file(sessions / "unused" / "s1.session", b"a session")
    media = db.path.parent / "media"
    media.mkdir()
    write_private_file(media / ("a" * 64), b"media")
    return create_backup(db.path.parent, sessions, tmp_path / "b.tar.gz").path


@pytest.mark.parametrize("where", ["data/media", "sessions/unused", "data/adbot.sqlite3"])
async def test_a_restore_never_writes_through_a_link(db: Database, tmp_path: Path, where: str) -> None:
    archive = await restorable(db, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o755)
    outside.chmod(0o755)
    target = tmp_path / "t"
    (target / "data").mkdir(parents=True)
    (target / "sessions").mkdir()
    (target / where).symlink_to(outside, target_is_directory=True)
    with pytest.raises(BackupRefused, match=r"is not empty .*, a symbolic link"):
        restore_backup(archive, target / "data", target / "sessions")
    assert list(outside.iterdir()) == [] and stat.S_IMODE(outside.stat().st_mode) == 0o755
    assert not (target / "data" / "adbot.sqlite3").is_file()


async def test_a_link_appearing_during_the_restore_is_refused(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = await restorable(db, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "t"
    real = archive_mod.unpack_checked

    def then_a_link(archive: Path, into: Path) -> archive_mod.Manifest:
        manifest = real(archive, into)
        (target / "sessions").mkdir(parents=True)
        (target / "sessions" / "unused").symlink_to(outside, target_is_directory=True)
        return manifest

    monkeypatch.setattr(archive_mod, "unpack_checked", then_a_link)
    with pytest.raises(BackupRefused, match="symbolic link"):
        restore_backup(archive, target / "data", target / "sessions")
    assert list(outside.iterdir()) == []


async def test_a_folder_not_made_yet_or_a_name_without_the_suffix_is_refused(
    db: Database, tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await db.close()
    for path in (tmp_path / "later", f"{tmp_path / 'later'}/", tmp_path / "b.tgz"):
        assert main(["backup", "--config", config, str(path)]) == 1
        err = capsys.readouterr().err
        assert "no existing folder and no archive name ending in .tar.gz" in err
    assert not (tmp_path / "later").exists() and not (tmp_path / "b.tgz").exists()
    (tmp_path / "later").mkdir()
    assert main(["backup", "--config", config, f"{tmp_path / 'later'}/"]) == 0
    assert [p.name.endswith(".tar.gz") for p in (tmp_path / "later").iterdir()] == [True]


async def test_a_backup_folder_it_cannot_make_is_one_line(
    db: Database, tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await db.close()
    (tmp_path / "afile").write_text("x")  # a file where the folder should be: fails as root too
    assert main(["backup", "--config", config, str(tmp_path / "afile" / "b.tar.gz")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: cannot write {tmp_path / 'afile'}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a 0500 folder")
async def test_an_unwritable_backup_folder_is_one_line(
    db: Database, tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await db.close()
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert main(["backup", "--config", config, str(locked / "b.tar.gz")]) == 1
        assert main(["backup", "--config", config, str(locked / "new" / "b.tar.gz")]) == 1
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("error: cannot write ") for line in err)
    assert "Permission denied" in err[0] and "Traceback" not in "".join(err)


async def test_a_restore_target_it_cannot_make_is_one_line(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = await restorable(db, tmp_path)
    (tmp_path / "afile").write_text("x")
    config = tmp_path / "r.toml"
    config.write_text('[bot]\ntoken = "1:x"\nadmins = [5]\n[paths]\ndata_dir = "afile/data"\n'
                      'sessions_dir = "afile/sessions"\n', encoding="utf-8")
    assert main(["restore", "--config", str(config), str(archive)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: cannot write {tmp_path / 'afile'}"), err
