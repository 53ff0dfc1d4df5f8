"""What an auditor can check without trusting the running system: independent recomputation from the history."""
