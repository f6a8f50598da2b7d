"""The few pieces of the CLI worth a table of their own, in process: where --queue-url points, which
targets a selection names, and the exit code of a set of results."""

from __future__ import annotations

import pytest

from shared.cli.common import CliError
from shared.cli.enqueue import split_queue_url
from shared.cli.run import exit_code, select
from shared.results import CheckResult, Finding
from shared.target_list import parse_target_list
from tests.cli.conftest import SAMPLE

TARGETS = parse_target_list(SAMPLE.read_bytes())


@pytest.mark.parametrize(("url", "account", "queue"), [
    ("https://acct.queue.core.windows.net/nwcheck-requests", "https://acct.queue.core.windows.net", "nwcheck-requests"),
    ("https://acct.queue.core.windows.net/nwcheck-requests/", "https://acct.queue.core.windows.net",
     "nwcheck-requests"),
    ("https://127.0.0.1:10001/devstoreaccount1/q1", "https://127.0.0.1:10001/devstoreaccount1", "q1"),
])
def test_queue_url_splits_into_account_and_queue(url: str, account: str, queue: str) -> None:
    assert split_queue_url(url) == (account, queue)


@pytest.mark.parametrize("url", ["ftp://acct/q", "http://127.0.0.1:10001/devstoreaccount1/q1",
                                 "https://acct.queue.core.windows.net", "https:///q",
                                 "https://acct.queue.core.windows.net/q?sv=2020", "nwcheck-requests"])
def test_queue_url_not_https_without_a_queue_or_with_a_query_is_refused(url: str) -> None:
    with pytest.raises(CliError, match="--queue-url"):
        split_queue_url(url)


@pytest.mark.parametrize(("names", "chosen"), [
    (["app-to-bing"], ["app-to-bing"]),
    (["APP-TO-BING", "app-to-bing"], ["app-to-bing"]),  # once, whatever the case
    (["app-to-*"], ["app-to-db-port80", "app-to-13.107.21.200", "app-to-bing", "app-to-blob"]),
    (["*nexthop*", "internet-in-3389"], ["internet-in-3389", "app-nexthop-db"]),  # the list's order
    (["app-to-b?ng", "app-to-bl[o]b"], ["app-to-bing", "app-to-blob"]),
])
def test_names_and_globs_choose_targets_in_the_lists_order(names: list[str], chosen: list[str]) -> None:
    assert [t.name for t in select(TARGETS, names, False)] == chosen


def test_every_unknown_name_is_reported_at_once() -> None:
    with pytest.raises(CliError) as caught:
        select(TARGETS, ["nope", "app-to-bing", "zz*"], False)
    assert str(caught.value).splitlines() == ["no target named 'nope' in the target list",
                                              "no target matches 'zz*'"]


def test_an_empty_list_has_nothing_to_run_with_all() -> None:
    empty = parse_target_list("version: 1\ntargets:\n  - {name: only, kind: teleport}\n")
    assert empty.targets == () and empty.errors
    with pytest.raises(CliError, match="the target list has no valid target"):
        select(empty, [], True)


def _result(status: str, expected: str) -> CheckResult:
    return CheckResult(check_id="c", target="t", kind="connectivity", trigger="queue", correlation_id=None,
                       expected=expected, finding=Finding(status=status), scheduled=None,
                       started="2026-11-22T10:00:00.000Z", completed="2026-11-22T10:00:01.000Z", polls=1,
                       network_watcher=None, source_resource_id="/x", destination=None, port=None, protocol=None,
                       direction=None)


@pytest.mark.parametrize(("statuses", "code"), [
    ([("Reachable", "Reachable"), ("Unreachable", "Unreachable")], 0),
    ([("Reachable", "Reachable"), ("Unreachable", "Reachable")], 1),
    ([("Degraded", "Reachable")], 1),  # not what it expects, though the alert state counts it healthy
    ([("Reachable", "Reachable"), ("Error", "Reachable")], 3),
    ([("Timeout", "Reachable")], 3),
    ([("Unknown", "Reachable")], 3),
    ([("Error", "Reachable"), ("Reachable", "Unreachable")], 1),  # a known difference wins over could-not-tell
])
def test_exit_code_of_results(statuses: list[tuple[str, str]], code: int) -> None:
    assert exit_code([_result(status, expected) for status, expected in statuses]) == code
