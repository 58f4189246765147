"""The Slack adapter: Slack payloads -> engine requests, neutral messages -> Block Kit."""

PLATFORM = "slack"
