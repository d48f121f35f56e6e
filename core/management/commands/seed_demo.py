from django.core.management.base import BaseCommand

from core import demo


class Command(BaseCommand):
    help = "Fill the database with a realistic demo organisation (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Do nothing if demo data already exists (for `make run`).",
        )

    def handle(self, *args, once: bool, **options):
        exists = demo.demo_exists()
        if once and exists:
            self.stdout.write("Demo data already present; nothing to do.")
            return
        if exists:
            self.stdout.write("Demo data present: rebuilding the demo incidents with fresh dates.")
        counts = demo.seed_demo()
        for name, count in counts.items():
            self.stdout.write(f"  {count:>5}  {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organisation ready. Log in as demo / {demo.DEMO_PASSWORD} "
                f"(manages Checkout) or admin / {demo.ADMIN_PASSWORD}."
            )
        )
        self.stdout.write("One account per role (docs/permissions.md):")
        for username, password, role in demo.role_accounts():
            self.stdout.write(f"  {username} / {password}  {role}")
