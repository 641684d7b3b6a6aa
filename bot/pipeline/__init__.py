"""The update pipeline between Telegram and the handlers: middlewares, per-chat isolation, conversation (FSM)
storage, routing helpers and filters."""
