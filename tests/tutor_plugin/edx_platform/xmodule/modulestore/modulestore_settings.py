"""Stand-in: edx-platform's helper that fills the modulestore's connection settings."""


def update_module_store_settings(module_store_setting, doc_store_settings=None, **kwargs):
    module_store_setting["doc_store_settings"] = doc_store_settings
