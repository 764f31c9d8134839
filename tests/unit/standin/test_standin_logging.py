"""Server logs of the IDM stand-in (test double): conf/logback.xml as PingIDM 8 reads it (the file,
its place relative to the working location, size-based rolling with a fixed window, the root
level). PingIDM 8.1 docs, monitoring guide "Server logs": logback, conf/logback.xml,
logs/openidm*.log."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from idm_standin import log
from standin_harness import wait_for

ROLLING = """<configuration>
  <appender name="file" class="RollingFileAppender">
    <file>{file}</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>{archive}</fileNamePattern>
      <minIndex>1</minIndex>
      <maxIndex>{count}</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
      <maxFileSize>{limit}</maxFileSize>
    </triggeringPolicy>
  </appender>
  <root level="{level}"><appender-ref ref="file"/></root>
</configuration>
"""


def rolling(file: str, archive: str, count=3, limit="2000", level="INFO") -> str:
    return ROLLING.format(file=file, archive=archive, count=count, limit=limit, level=level)


def test_sizes_are_read_like_logback():
    assert log.parse_size("1234") == 1234
    assert log.parse_size("10kb") == 10 * 1024
    assert log.parse_size(" 5 MB ") == 5 * 1024 * 1024
    assert log.parse_size("1GB") == 1024**3
    with pytest.raises(ValueError):
        log.parse_size("ten megabytes")


def test_variables_defaults_and_undefined_names_like_logback():
    variables = {"idm.data.dir": "/data"}
    assert log.substitute("${idm.data.dir}/logs", variables) == "/data/logs"
    assert log.substitute("${log.dir:-/var/log/idm}/x", variables) == "/var/log/idm/x"
    assert log.substitute("${nope}/x", variables) == "nope_IS_UNDEFINED/x"


def test_relative_file_is_under_the_working_location_absolute_file_is_kept(tmp_path):
    base = tmp_path / "work"
    relative = log.parse_config(rolling("logs/openidm.log", "logs/openidm.%i.log"), {}, base)
    assert relative.files[0].path == base / "logs/openidm.log"
    assert relative.files[0].archive(2) == base / "logs/openidm.2.log"
    absolute = log.parse_config(
        rolling("${idm.data.dir}/x/openidm.log", "/var/log/idm/openidm.%i.log", 4, "5MB"),
        {"idm.data.dir": "/srv/idm"},
        base,
    )
    target = absolute.files[0]
    assert target.path == Path("/srv/idm/x/openidm.log")
    assert target.archive(1) == Path("/var/log/idm/openidm.1.log")
    assert (target.min_index, target.max_index, target.max_bytes) == (1, 4, 5 * 1024 * 1024)


def test_root_level_is_read_any_case_and_unknown_means_debug(tmp_path):
    def level(name: str) -> int:
        return log.parse_config(rolling("a.log", "a.%i.log", level=name), {}, tmp_path).level

    assert (level("warn"), level("TRACE"), level("loud")) == (30, log.TRACE, 10)


def test_window_is_at_most_twenty_files_and_needs_percent_i(tmp_path):
    wide = log.parse_config(rolling("a.log", "a.%i.log", count=50), {}, tmp_path).files[0]
    assert wide.max_index == 21  # minIndex 1 + logback's MAX_WINDOW_SIZE 20
    no_index = log.parse_config(rolling("a.log", "a.log.old"), {}, tmp_path).files[0]
    assert no_index.archive_pattern == ""  # the policy is refused: the file never rolls


def test_time_based_policy_writes_the_file_without_rolling(tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "idm_standin/openidm/conf/logback.xml"
    config = log.parse_config(shipped.read_text(), {}, tmp_path)
    assert config.level == logging.INFO and config.console
    assert [t.path for t in config.files] == [tmp_path / "logs/openidm.log"]
    assert config.files[0].archive_pattern == ""


def test_size_rollover_keeps_max_index_files(tmp_path):
    archives = str(tmp_path / "openidm.%i.log")
    target = log.FileTarget(tmp_path / "openidm.log", True, archives, 1, 3, 1000)
    handler = log.WindowFileHandler(target)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test_size_rollover")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for number in range(200):
            logger.warning("line %04d %s", number, "x" * 40)
    finally:
        handler.close()
        logger.removeHandler(handler)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["openidm.1.log", "openidm.2.log", "openidm.3.log", "openidm.log"]
    for index in (1, 2, 3):
        size = (tmp_path / f"openidm.{index}.log").stat().st_size
        assert 1000 <= size < 1000 + 60  # rolled once it held maxFileSize, before the next line
    # newest lines in the active file, older ones in ascending index
    assert "line 0199" in (tmp_path / "openidm.log").read_text()
    first = [int((tmp_path / f"openidm.{i}.log").read_text().split()[1]) for i in (1, 2, 3)]
    assert first[0] > first[1] > first[2]


def test_default_layout_is_logs_openidm_log_of_the_working_location(make_node, repo_db):
    node = make_node("d", repo_db)
    node.start()
    node.wait_ready()
    assert "OpenIDM ready" in (node.home / "logs" / "openidm.log").read_text()
    assert not (node.home / "logs" / "openidm0.log.0").exists()
    assert "cluster check-in of" not in node.log_text()  # DEBUG lines stay out at INFO


def test_node_logs_where_logback_xml_says_and_rolls(make_node, repo_db, tmp_path):
    node = make_node("r", repo_db)
    logs = tmp_path / "var-log-idm"
    node.conf("logback.xml").write_text(
        rolling(f"{logs}/openidm.log", f"{logs}/openidm.%i.log", 2, "1kb", "DEBUG")
    )
    node.start()
    node.wait_ready()
    wait_for(lambda: (logs / "openidm.2.log").exists(), 20, "two rolled files")
    time.sleep(1.5)  # more rolls: the window stays two files wide
    names = sorted(p.name for p in logs.iterdir())
    assert names == ["openidm.1.log", "openidm.2.log", "openidm.log"]
    text = "".join(p.read_text() for p in logs.iterdir())
    assert "cluster check-in of" in text  # root level DEBUG
    assert not (node.home / "logs" / "openidm.log").exists()


def test_unusable_logback_xml_logs_to_stderr_only(make_node, repo_db):
    node = make_node("u", repo_db)
    node.conf("logback.xml").write_text("<configuration><root")
    node.start()
    node.wait_ready()
    assert not (node.home / "logs" / "openidm.log").exists()
    assert "logback.xml not usable" in node.output()


def test_threshold_filters_of_the_appenders_are_honoured(tmp_path):
    text = """<configuration>
  <appender name="console" class="ch.qos.logback.core.ConsoleAppender">
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter"><level>INFO</level></filter>
  </appender>
  <appender name="file" class="ch.qos.logback.core.FileAppender">
    <file>a.log</file>
    <filter class="ThresholdFilter"><level>warn</level></filter>
  </appender>
  <root level="DEBUG"><appender-ref ref="console"/><appender-ref ref="file"/></root>
</configuration>"""
    config = log.parse_config(text, {}, tmp_path)
    assert (config.level, config.console, config.console_threshold) == (10, True, 20)
    assert config.files[0].threshold == 30 and config.files[0].archive_pattern == ""
