FROM python:3.11-slim
WORKDIR /app
# Exactly the locked packages, checked against their hashes; the checkout itself is the application.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock && useradd --system tribune
COPY run.py ./
COPY live ./live
COPY static ./static
COPY templates ./templates
USER tribune
EXPOSE 8000
CMD ["python", "run.py", "--host", "0.0.0.0", "--port", "8000"]
