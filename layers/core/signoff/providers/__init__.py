"""Chat models behind one interface (`ChatModel`): OpenAI-compatible HTTP endpoints and Amazon
Bedrock's Converse API, configured per deployment (Settings.llm_providers), with credentials
resolved by reference and usage priced from Settings.model_prices.

Kept import-light: settings.py imports the configuration models from here, and every function
reads settings at cold start.
"""
