"""The public board: what anyone may see of a village's disclosures (published, screened content only), the
proof that a notice hangs on the paper board, and what a verified person sees of their own work in the
Mini App. No web import: web/ renders what these functions return."""
