"""A Functions app with one timer function, for the local host's timer tests."""

import azure.functions as func

app = func.FunctionApp()
CALLS: list[func.TimerRequest] = []


@app.timer_trigger(arg_name="timer", schedule="0 0 0 1 1 *")  # once a year: only the admin API fires it
def yearly(timer: func.TimerRequest) -> None:
    CALLS.append(timer)
