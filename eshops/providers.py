"""The e-shop modules by provider name: adding one is a module and a line here."""

from eshops import shopify, woocommerce

PROVIDERS = {shopify.PROVIDER: shopify, woocommerce.PROVIDER: woocommerce}
