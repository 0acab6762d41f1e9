"""What the flow scripts share about our replies."""


def sans_version(reply):
    """Our replies carry the chunk's `version` (an extra field the reference ignores); compare without it."""
    if isinstance(reply, dict) and isinstance(reply.get('version'), int):
        return {k: v for k, v in reply.items() if k != 'version'}
    return reply
