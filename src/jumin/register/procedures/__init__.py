"""The procedures of std chapter 4, one module each. A procedure validates its input, builds a
``DraftPlan`` (every affected person's record after the change, with findings) and saves it
as a draft through ``jumin.register.services.save_draft``; a reviewer commits it."""
