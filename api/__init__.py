"""HTTP: REST v1, tokens and roles, the live stream and the control-room page."""
