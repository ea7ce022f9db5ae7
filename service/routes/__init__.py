"""One router per resource: assign, segments, profile, model, health."""
