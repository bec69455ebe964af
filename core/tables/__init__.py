"""Tables as users hand them over: the one CSV reader, previews and column profiles."""
