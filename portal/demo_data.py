from .demo import DemoContext, load_home


def load(context: DemoContext) -> None:
    load_home(context)
    context.log("Home page at / (Help centre)")
