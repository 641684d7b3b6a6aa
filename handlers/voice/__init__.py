"""What residents say: questions and complaints about notices, and petitions for a disclosure."""
