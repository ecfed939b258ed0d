"""What more than one flow uses: alias moves with their record and event (``deploy``), the
promotion check (``promotion``), estimated performance (``estimate``), the production model
and the weeks done (``models``)."""
