FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md run.py ./
COPY live ./live
COPY static ./static
COPY templates ./templates
# Editable install: the pages and static files are served from this working tree.
RUN pip install --no-cache-dir -e . && useradd --system tribune
USER tribune
EXPOSE 8000
CMD ["python", "run.py", "--host", "0.0.0.0", "--port", "8000"]
