"""The residents' voice: questions (质询), complaints, petitions and their rate limits."""
