"""Feedback (shared/rules/feedback.md): end-of-job and mid-contract public feedback, freelancer
requests, private comments to the platform, and a person's public work history."""
