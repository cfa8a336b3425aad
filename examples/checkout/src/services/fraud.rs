//! `fraud`: scores an order's risk. The scoring span carries the events
//! `fraud_check_started` and `fraud_check_completed` (with `risk_score`).

use super::server;
use crate::model::{FraudAssessment, FraudRequest};
use crate::scenario::risk_score;
use axum::routing::post;
use axum::{Json, Router};
use std::time::Duration;
use tracing::field::Empty;

/// How long the simulated model takes.
const MODEL_LATENCY: Duration = Duration::from_millis(40);

/// `POST /score`.
pub fn router() -> Router {
    server::traced(Router::new().route("/score", post(score)), false)
}

async fn score(Json(request): Json<FraudRequest>) -> Json<FraudAssessment> {
    Json(FraudAssessment {
        risk_score: assess_risk(&request).await,
    })
}

/// Run the fraud model.
#[tracing::instrument(
    skip_all,
    fields(
        order.id = %request.order_id,
        order.items.count = request.items_count,
        fraud.risk_score = Empty,
    )
)]
async fn assess_risk(request: &FraudRequest) -> f64 {
    tracing::info!(
        order.amount_cents = request.amount_cents,
        "fraud_check_started"
    );
    tokio::time::sleep(MODEL_LATENCY).await;
    let risk_score = risk_score(&request.order_id, request.amount_cents);
    tracing::info!(risk_score, "fraud_check_completed");
    tracing::Span::current().record("fraud.risk_score", risk_score);
    risk_score
}
