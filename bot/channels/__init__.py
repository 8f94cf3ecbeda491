"""Channel adapters: receive → normalized Inbound; send → text, quick replies, pickers."""
