"""The WhatsApp Cloud API as this product uses it: send requests, webhooks, signatures."""
