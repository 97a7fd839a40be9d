"""The `error` text of a job report, which the agent fills from an operator's
`deny --reason` and from failing programs, so it may hold tabs, newlines,
escapes and a UTF-8 character cut in half: the server stores it cleaned
(controls as a space or \\xNN, invalid bytes as \\xNN, clipped between
characters) instead of refusing it, since a refused report left the request
stuck in awaiting_approval or collecting while the agent retried forever.
Real valise-server (and valise-agent for the denial) on loopback over mutual
TLS; Python 3 standard library.

ctest passes VALISE_SERVER_BIN, VALISE_AGENT_BIN and VALISE_BIN; a missing
binary fails the tests, never skips them."""
import json
import sys
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from test_agent_e2e import EndToEnd  # noqa: E402
from test_server_agents import AgentTest  # noqa: E402


class ReportedErrors(AgentTest):
    """Status reports posted directly with an agent's certificate."""

    def failed_with(self, body):
        agent = self.agent()
        r = self.ask(agent)
        status, _, answer = agent.request(
            "POST", f"/api/v1/agent/requests/{r['id']}/status", body,
            headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["state"], "failed", answer)
        shown = self.server.api("GET", f"/api/v1/requests/{r['id']}", expect=200)
        self.assertEqual(shown["state"], "failed", shown)
        return shown["error"]

    def test_controls_are_stored_as_spaces_or_hex(self):
        error = self.failed_with({"state": "failed",
                                  "error": "step 1:\tfailed\nstep 2:\r\n\x1b[31mred\x7f \x85 \x9b"})
        self.assertEqual(error, "step 1: failed step 2:  \\x1b[31mred\\x7f \\xc2\\x85 \\xc2\\x9b")

    def test_a_cut_utf8_character_is_stored_as_hex(self):
        # What an older agent sends after cutting its text at a byte count.
        body = b'{"state": "failed", "error": "denied: caf\xc3"}'
        self.assertEqual(self.failed_with(body), "denied: caf\\xc3")

    def test_a_long_error_is_clipped_between_characters(self):
        error = self.failed_with({"state": "failed", "error": "x" + "\u00e9" * 2000})
        self.assertEqual(error, "x" + "\u00e9" * 511)

    def test_the_audit_record_holds_the_cleaned_text(self):
        self.failed_with({"state": "failed", "error": "a\nb\x1bc"})
        records = self.audit()
        failed = [x for x in records if x["action"] == "request.state_changed"
                  and x["detail"].get("to") == "failed"]
        self.assertEqual(failed[-1]["detail"]["error"], "a b\\x1bc", failed[-1])


class DeniedWithControls(EndToEnd):
    """`valise-agent deny --reason` with a tab, a newline, an escape and more
    than the agent keeps, cut in the middle of a two-byte character: the
    request still ends failed on the server, with the reason readable."""

    def test_a_denial_with_controls_reaches_the_server(self):
        agent = self.site(profile_extra='approval = "operator"').start()
        request_id = self.ask()
        self.wait_request(request_id, states=("awaiting_approval",), agent=agent)
        reason = "not now:\tthe audit\nruns \x1b[31muntil Friday! " + "\u00e9" * 600
        # The agent used to keep 500 bytes of it: half of an é.
        self.assertEqual(len(reason.encode()[:500].decode(errors="ignore").encode()), 499)
        agent.command("deny", request_id, "--reason", reason)
        r = self.wait_request(request_id, timeout=30, agent=agent)
        self.assertEqual(r["state"], "failed", r)
        self.assertTrue(r["error"].startswith(
            "denied by the site's operator: not now: the audit runs \\x1b[31muntil Friday! \u00e9"),
            r["error"])
        self.assertTrue(r["error"].endswith("\u00e9"), r["error"])
        listed = json.loads(agent.command("jobs", "--json").stdout)
        self.assertEqual([j["state"] for j in listed if j["id"] == request_id], ["failed"])


if __name__ == "__main__":
    unittest.main()
