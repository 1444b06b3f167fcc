"""Support cases (shared/rules/support.md): an agent in the room mediates an unresponsive party or
a refund wish: research summary, outreach window, relayed messages, courtesy credit, lead approvals."""
