"""The wire and the loop: framing, messages, connections, the selectors loop, the client."""
