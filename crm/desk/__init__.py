"""The CRM's desk pages (Wagtail admin, ``helpdesk`` namespace, mounted through the
``register_helpdesk_urls`` hook): My tasks and the Organization 360."""
