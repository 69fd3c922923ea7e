from django.http import HttpRequest, HttpResponse


def dashboard(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def setup(request: HttpRequest) -> HttpResponse:
    return HttpResponse("setup")
