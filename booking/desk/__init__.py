"""Reception and caseworkers book for families on the phone or at the desk."""
